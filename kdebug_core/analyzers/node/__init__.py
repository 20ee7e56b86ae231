"""Node analyzers: a node judged as a subject of its own (`analyze_node(view, node, plugin)`), and
what its state means for the pods on it (`analyze(ctx)`)."""
