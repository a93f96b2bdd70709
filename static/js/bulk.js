// bulk: filled by its feature
