-- Emails are compared exactly in the application's normalized form (trimmed, ASCII letters
-- lowercased, every other character kept), as on PostgreSQL; no database-side lower().
--
-- 1. Stop, changing nothing, if two rows would share one normalized email. The old unique index
--    on lower(email) (ASCII-only in SQLite) rules that out for rows the service wrote, so only
--    rows written by hand can collide. SQLite's RAISE() takes no computed message, so the error
--    comes from json_extract() refusing a "path" that is our message: it reads
--    "JSON path error near 'users: emails that differ only in ASCII letter case ... <ids>'".
--    No row is ever dropped or merged here.
SELECT json_extract('{}', 'users: emails that differ only in ASCII letter case, by user id '
                          || '(each group one address): ' || group_concat(ids, '; ')
                          || '; nothing was changed. Give each group one account (change or '
                          || 'delete the others), then migrate again.')
  FROM (SELECT group_concat(id, ', ') AS ids
          FROM (SELECT id, lower(email) AS normalized FROM users ORDER BY created_at, id)
         GROUP BY normalized
        HAVING count(*) > 1)
HAVING count(*) > 0;

-- 2. Rewrite every stored email into the normalized form (a no-op for rows the service wrote).
--    SQLite's built-in lower() folds ASCII letters only, exactly the normalization.
UPDATE users SET email = lower(email) WHERE email <> lower(email);

-- 3. Uniqueness on the plain column.
DROP INDEX users_email_key;
CREATE UNIQUE INDEX users_email_key ON users (email);
