-- Optimistic concurrency (DESIGN.md 6, `If-Match`): every row the system
-- API updates carries a revision that each change bumps; its entity tag is
-- the revision.
ALTER TABLE fusio_user ADD COLUMN revision BIGINT NOT NULL DEFAULT 1;
ALTER TABLE fusio_app ADD COLUMN revision BIGINT NOT NULL DEFAULT 1;
ALTER TABLE fusio_scope ADD COLUMN revision BIGINT NOT NULL DEFAULT 1;
ALTER TABLE fusio_role ADD COLUMN revision BIGINT NOT NULL DEFAULT 1;
