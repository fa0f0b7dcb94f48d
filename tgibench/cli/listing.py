"""``tgibench models``, ``tgibench metrics`` and ``tgibench docs``: what is registered
(without loading weights) and the documentation that ships with tgibench."""

from __future__ import annotations

from typing import Annotated

import typer

from tgibench.cli.app import Include, app, fail, include_plugins


@app.command()
def docs(
    topic: Annotated[
        str | None,
        typer.Argument(help="A document, or document#section (e.g. weights#clip); none: list."),
    ] = None,
) -> None:
    """Show the documentation that ships with tgibench (also where it is pip-installed)."""
    from tgibench.handbook import read, reference, topics

    if topic is None:
        for name, title in topics().items():
            typer.echo(f"{name:<12} {title}")
        typer.echo(f"\n{reference('TOPIC')} shows one; {reference('TOPIC', 'SECTION')} a section")
        return
    try:
        typer.echo(read(topic))
    except KeyError as exc:
        raise fail(str(exc.args[0])) from None


@app.command()
def models(include: Include = None) -> None:
    """List the registered models and their options."""
    include_plugins(include)
    from tgibench.models import describe_models

    for name, summary, options in describe_models():
        typer.echo(f"{name:<10} {summary}")
        if options:
            typer.echo(f"{'':<10} options: {options}")


@app.command("metrics")
def list_metrics(
    include: Include = None,
    markdown: Annotated[
        bool, typer.Option(help="Print the table of docs/metrics.md (generated from here).")
    ] = False,
) -> None:
    """List the metrics: pillar, direction, inputs and weights (found locally or missing)."""
    include_plugins(include)
    from tgibench.features.backbones import BACKBONES, Backbones
    from tgibench.metrics import select_metrics
    from tgibench.weights import WEIGHTS_DOCS, docs_link, hub_offline

    metrics = select_metrics(["all"])
    if markdown:
        from tgibench.metrics.table import markdown_table

        typer.echo(markdown_table(metrics), nl=False)
        return
    backbones = Backbones()
    found: dict[str, str | None] = {}
    details: dict[str, str] = {}
    for name in dict.fromkeys(b for metric in metrics for b in metric.backbones):
        try:
            location = backbones.locate(name)
        except ValueError as exc:  # a malformed option or environment variable
            found[name], details[name] = None, f"missing ({exc})"
            continue
        found[name] = location.local
        if location.local:
            details[name] = f"available ({location.local})"
        else:
            source = f"; downloads from {location.remote} when used" if location.remote else ""
            source = "; offline (HF_HUB_OFFLINE)" if location.remote and hub_offline() else source
            details[name] = (
                f"missing: {location.weights}{source} - {docs_link(BACKBONES.get(name).anchor)}"
            )
    for metric in metrics:
        arrow = "↑" if metric.higher_is_better else "↓"
        weights = (
            ", ".join(f"{b} ({'available' if found[b] else 'missing'})" for b in metric.backbones)
            or "none"
        )
        needs = ", ".join(metric.needs) or "video only"
        flag = "" if metric.default else " [opt-in]"
        typer.echo(f"{metric.name:<16} {arrow} {metric.pillar:<15} {metric.summary}{flag}")
        typer.echo(f"{'':<18} range {list(metric.value_range)}; needs {needs}; weights {weights}")
    typer.echo(f"\nweights (how to supply them: {WEIGHTS_DOCS})")
    for name, detail in details.items():
        typer.echo(f"  {name:<11} {detail}")
