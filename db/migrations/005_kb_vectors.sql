-- Sentence vectors of knowledge-base articles (kb/embed.py), computed once per article
-- version and model and shared by every console.
CREATE TABLE kb_vectors (
    article_id    text NOT NULL REFERENCES kb_articles(id) ON DELETE CASCADE,
    model         text NOT NULL,
    content_hash  text NOT NULL,
    head          bytea NOT NULL,  -- float16, title and question variants as a query
    body          bytea NOT NULL,  -- float16, title and start of the answer as a passage
    computed_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (article_id, model)
);
