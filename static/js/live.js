// live: filled by its feature
