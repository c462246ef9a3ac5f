-- wasend schema, version 7: an event's data (wasend.Event.Data, JSON): what
-- it tells beyond its ids and status, for example the end of a job's wait,
-- or a context's restriction.
-- PostgreSQL applies the whole file in one transaction.

ALTER TABLE send_events ADD COLUMN IF NOT EXISTS data json;
