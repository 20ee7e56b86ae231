"""kdebug core: sources, analyzers and renderers shared by the kdebug kubectl plugins."""

__version__ = "0.1.0"
