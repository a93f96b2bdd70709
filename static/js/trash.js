// trash: filled by its feature
