"""Command line: ``serve``, ``demo`` and ``bench``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from webui.api.security import is_loopback
from webui.config import OPTIONS, ConfigError, Settings, load_settings


def _serve_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser("serve", help="serve the session list and the sidebar")
    serve.add_argument("--config", type=Path, help="TOML file (default config/webui.toml)")
    for option in OPTIONS:
        if option.type is bool:
            serve.add_argument(
                f"--{option.name.replace('_', '-')}",
                dest=option.name,
                action=argparse.BooleanOptionalAction,
                default=None,
                help=option.help,
            )
        else:
            serve.add_argument(
                f"--{option.name.replace('_', '-')}",
                dest=option.name,
                default=None,
                help=option.help,
            )


def _demo_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = sub.add_parser("demo", help="create a realistic demo home")
    demo.add_argument("--home", type=Path, required=True)
    demo.add_argument("--profiles", type=int, default=3)
    demo.add_argument("--sessions", type=int, default=2000, help="sessions per profile")
    demo.add_argument("--messages", type=int, default=None, help="messages per session")
    demo.add_argument("--seed", type=int, default=0)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m webui", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _serve_parser(sub)
    _demo_parser(sub)
    bench = sub.add_parser("bench", help="measure the server against the ceiling and naive")
    bench.add_argument("--sizes", default="100,1000,10000,50000", help="sessions per home")
    bench.add_argument("--quick", action="store_true", help="small sizes, short runs (~5 min)")
    bench.add_argument(
        "--only", choices=("main", "churn"), default=None, help="run one section alone"
    )
    bench.add_argument("--soak", action="store_true", help="the 10-minute soak under load")
    bench.add_argument("--soak-seconds", type=float, default=600.0)
    bench.add_argument("--out", type=Path, default=Path("."), help="where BENCHMARKS.md goes")
    bench.add_argument("--work", type=Path, default=None, help="scratch folder for demo homes")
    return parser


def serve(args: argparse.Namespace) -> int:
    overrides = {o.name: getattr(args, o.name) for o in OPTIONS}
    try:
        settings = load_settings(config_path=args.config, environ=os.environ, overrides=overrides)
    except ConfigError as exc:
        print(f"webui: {exc}", file=sys.stderr)
        return 2
    if not is_loopback(settings.host) and not settings.token:
        print(
            f"webui: refusing to bind {settings.host} without an auth token: "
            "set WEBUI_TOKEN (or --token) to serve beyond this machine",
            file=sys.stderr,
        )
        return 2
    from webui.server import run

    return run(settings)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    if args.command == "demo":
        from webui.demo import build_demo_home

        try:
            summary = build_demo_home(
                args.home,
                profiles=args.profiles,
                sessions=args.sessions,
                messages_per_session=args.messages,
                seed=args.seed,
            )
        except ValueError as exc:
            print(f"webui demo: {exc}", file=sys.stderr)
            return 2
        print(f"demo home ready at {args.home}:")
        for profile in summary.profiles:
            print(
                f"  {profile.name}: {profile.sessions} sessions, {profile.messages} messages "
                f"(schema v{profile.version}{' upgraded' if profile.upgraded else ''}, "
                f"{profile.journal_mode})"
            )
        if summary.claude is not None:
            claude = summary.claude
            print(
                f"  Claude Code: {claude.sessions} transcripts, {claude.lines} lines at "
                f"{claude.root} (serve with --claude-home {claude.root})"
            )
        return 0
    from webui.bench import run_bench

    return run_bench(args)


__all__ = ["Settings", "main"]

if __name__ == "__main__":
    sys.exit(main())
