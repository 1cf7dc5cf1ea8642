-- Event content in three languages, and names as Hong Kong writes them.
--
-- `translations` hold per-language copies of the text fields ({"zh-Hant": {"title": …}, …});
-- questions carry theirs inside the `questions` jsonb. A registration may give a Chinese name
-- beside the Latin-script one; `search_key` is the names folded for the door's search
-- (full-width → half-width, lower case, Traditional → Simplified, Cantonese romanisations of
-- the Chinese name), so a search is one plain match on one column (events/names.py).
ALTER TABLE events ADD COLUMN translations jsonb NOT NULL DEFAULT '{}';
ALTER TABLE sessions ADD COLUMN translations jsonb NOT NULL DEFAULT '{}';
ALTER TABLE registrations ADD COLUMN chinese_name text;
ALTER TABLE registrations ADD COLUMN search_key text NOT NULL DEFAULT '';
UPDATE registrations SET search_key = lower(name);
