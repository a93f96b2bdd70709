// detail: filled by its feature
