"""Service analyzers (endpoints-check): one reason a Service reaches no pods per module."""
