// filters: filled by its feature
