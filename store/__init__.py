"""The append-only event store in PostgreSQL (asyncpg): the audit record of record."""
