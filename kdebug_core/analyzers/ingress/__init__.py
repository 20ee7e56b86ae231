"""Ingress analyzers (endpoints-check `ingress/NAME`): what the Ingress itself gets wrong before
traffic reaches a Service — a backend Service or port that does not exist, an IngressClass that does
not exist, a TLS Secret that does not exist. Each exposes `analyze(view, ingress, plugin)`; the
Services behind it are then judged by the Service analyzers."""
