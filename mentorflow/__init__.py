"""Entry points of Mentorflow: the ``mentorflow`` command, settings, logging, the embedded stack."""
