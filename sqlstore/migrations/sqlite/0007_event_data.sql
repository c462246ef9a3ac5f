-- wasend schema, version 7: an event's data (wasend.Event.Data, JSON
-- text): what it tells beyond its ids and status, for example the end of a
-- job's wait, or a context's restriction.
-- SQLite applies the whole file in one transaction.

ALTER TABLE send_events ADD COLUMN data TEXT;
