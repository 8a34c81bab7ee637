-- A relying party's standing authentication requirements (issue 4): `any` (the default),
-- `mfa` (a second factor on every login), a minimum account level (`standard`,
-- `confirmed`), or several words (`mfa confirmed`). See domain/assurance.rs.
ALTER TABLE clients ADD COLUMN auth_policy TEXT NOT NULL DEFAULT 'any';
