"""Command line: ``webstack-sqsd [--config FILE] [--check]``."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys

from webstack_agents import __version__
from webstack_agents.common import jsonlog
from webstack_agents.common.config import ConfigError
from webstack_agents.sqsd import config as sqsd_config
from webstack_agents.sqsd.cron import CronError, load_cron_file

EXIT_CONFIG = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="webstack-sqsd",
        description="Elastic Beanstalk worker daemon (sqsd): SQS messages become POSTs to the local application.",
    )
    parser.add_argument(
        "--config",
        default=os.environ.get("WEBSTACK_SQSD_CONFIG"),
        help=f"configuration file (YAML/JSON); default $WEBSTACK_SQSD_CONFIG, else {sqsd_config.DEFAULT_CONFIG_FILE}"
        " if it exists",
    )
    parser.add_argument("--check", action="store_true", help="validate the configuration and cron.yaml, then exit")
    parser.add_argument("--version", action="version", version=f"webstack-sqsd {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    path = args.config
    if path is None and os.path.exists(sqsd_config.DEFAULT_CONFIG_FILE):
        path = sqsd_config.DEFAULT_CONFIG_FILE
    try:
        config = sqsd_config.load(path)
        tasks = load_cron_file(config.cron_file) if config.cron_file else []
        if tasks and not config.leader_table:
            raise ConfigError("LeaderTable is required when CronFile defines periodic tasks")
    except (ConfigError, CronError) as exc:
        sys.stderr.write(f"webstack-sqsd: configuration error: {exc}\n")
        return EXIT_CONFIG
    if args.check:
        sys.stdout.write(f"configuration OK: queue {config.queue_name}, {len(tasks)} periodic task(s)\n")
        return 0
    jsonlog.setup(config.log_level)
    from webstack_agents.sqsd.daemon import Daemon

    daemon = Daemon(config, tasks=tasks)

    def _on_signal(signum, _frame):
        logging.getLogger("webstack.sqsd").info("signal received", extra={"signal": signal.Signals(signum).name})
        daemon.request_stop()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    return daemon.run()


if __name__ == "__main__":
    sys.exit(main())
