// collections: filled by its feature
