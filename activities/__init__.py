"""All I/O of Mentorflow, as Temporal activities: classes that receive their dependencies."""
