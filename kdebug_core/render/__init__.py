"""Renderers: the report as text, wide text, JSON, YAML or names."""

from ..findings import Report


def render(report: Report, output: str, color: bool, plugin: str) -> str:
    if output == "json":
        from .structured import render_json
        return render_json(report)
    if output == "yaml":
        from .structured import render_yaml
        return render_yaml(report)
    if output == "name":
        from .structured import render_name
        return render_name(report)
    if plugin == "oomcheck" and output == "text":
        from .table import render as render_table
        return render_table(report, color=color, plugin=plugin)
    from .text import render as render_text
    return render_text(report, color=color, wide=output == "wide", plugin=plugin)
