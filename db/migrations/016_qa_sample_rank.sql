-- The day's sample is capped and ranked (riskiest first): each drawn call keeps its place in
-- the order; a call a later draw left out keeps its row (it may have been scored) with no rank.
ALTER TABLE qa_samples ADD COLUMN rank integer;
UPDATE qa_samples SET rank = 0;
