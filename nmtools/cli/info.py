"""nm info: what a port is (or, with no port, the pipes in shared memory)."""

from __future__ import annotations

import json

import click

from nmtools.cli.common import admode_option, json_option, reports_errors
from nmtools.errors import printable


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def _show_port(d: dict[str, object]) -> None:
    rows = [
        ("port", d["port"]),
        ("backend", f"{d['backend']}" + (f" ({d['detail']})" if d["detail"] else "")),
        ("admode", f"{d['admode']}" + (f" ({d['admode_note']})" if d.get("admode_note") else "")),
    ]
    if d["ifname"] and d["backend"] != "pipe":
        q = "all" if d["queue"] is None else d["queue"]
        rows.append(("interface", f"{d['ifname']} (queue {q} of {d['num_queues']})"))
    rows += [
        ("tx rings", f"{d['tx_rings']} x {d['tx_slots']} slots"),
        ("rx rings", f"{d['rx_rings']} x {d['rx_slots']} slots"),
        ("buffers", f"{d['num_bufs']} x {d['buf_size']} bytes"),
        ("memory", f"{d['mem_id']} ({_size(int(d['memsize']))})"),  # type: ignore[call-overload]
        ("mtu", d["mtu"] if d["mtu"] else "-"),
        ("mac", d["mac"] or "-"),
    ]
    for k, v in rows:
        click.echo(f"{k:<10} {printable(str(v))}")


@click.command("info")
@click.argument("port", required=False)
@admode_option
@json_option
@reports_errors
def info(port: str | None, admode: str | None, as_json: bool) -> None:
    """Open PORT and show what carries it: backend, adapter mode, rings, slots,
    buffers, memory region, MTU and MAC.

    Without PORT, list this user's pipes in shared memory (removing those whose
    processes are gone).
    """
    from nmtools.ports import list_pipes, open_port

    if port is None:
        pipes = list_pipes(reap=True)
        if as_json:
            click.echo(
                json.dumps(
                    [
                        {"port": p.name, **{k: v for k, v in p.__dict__.items() if k != "name"}}
                        for p in pipes
                    ]
                )
            )
            return
        if not pipes:
            click.echo("no pipes")
        for p in pipes:
            ends = " ".join(
                f"{'{}'[i]}{'pid ' + str(p.pids[i]) if p.alive[i] else 'closed'}" for i in range(2)
            )
            click.echo(f"{printable(p.name)}  {p.rings}x{p.slots} slots  {ends}")
        return
    with open_port(port, admode=admode) as p:
        d = p.info()
    if as_json:
        click.echo(json.dumps(d))
    else:
        _show_port(d)
