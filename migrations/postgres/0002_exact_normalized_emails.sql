-- Emails are compared exactly in the application's normalized form (trimmed, ASCII letters
-- lowercased, every other character kept): lower() folded non-ASCII letters too, by the
-- database's locale, so "ÜNÏ@x.io" and "ünï@x.io" were one address here and two on SQLite.
--
-- 1. Stop, changing nothing, if two rows would share one normalized email. The old unique index
--    on lower(email) rules that out for rows the service wrote, so only rows written by hand can
--    collide; the error names their ids so an operator can merge, rename or delete them and
--    start again. No row is ever dropped or merged here.
DO $$
DECLARE
  collisions text;
BEGIN
  SELECT string_agg(ids, '; ' ORDER BY ids) INTO collisions
    FROM (SELECT string_agg(id::text, ', ' ORDER BY created_at, id) AS ids
            FROM users
           GROUP BY translate(email, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
          HAVING count(*) > 1) AS groups;
  IF collisions IS NOT NULL THEN
    RAISE EXCEPTION 'users: emails that differ only in ASCII letter case, by user id (each group one address): %; nothing was changed', collisions
      USING HINT = 'Give each group one account (change or delete the others), then migrate again.';
  END IF;
END
$$;

-- 2. Rewrite every stored email into the normalized form (a no-op for rows the service wrote).
UPDATE users
   SET email = translate(email, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
 WHERE email <> translate(email, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz');

-- 3. Uniqueness on the plain column: the same name, so a clash is still reported as a taken email.
DROP INDEX users_email_key;
CREATE UNIQUE INDEX users_email_key ON users (email);
