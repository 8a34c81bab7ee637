-- Password recovery: the optional secret question ("контрольный вопрос") asked after the
-- recovery code. The answer is kept only as an Argon2id hash of its normalised form
-- (trimmed, lower-case, single spaces), so it is compared case-insensitively.
ALTER TABLE users ADD COLUMN secret_question TEXT;
ALTER TABLE users ADD COLUMN secret_answer_hash TEXT;
-- Recovery looks accounts up by INN too.
CREATE INDEX users_inn ON users(inn);
