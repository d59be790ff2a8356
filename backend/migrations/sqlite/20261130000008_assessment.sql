-- Assessment (综治考核): the rankings read the log's closures, resolutions, returns, reports
-- and reopenings of a period, so the log is indexed by action and time.

CREATE INDEX transitions_by_action_at ON transitions (action, at);
