"""`python -m hubqbo.tools replay-dlq [--portal ID] [--limit N] [--dry-run]`

Re-queues the sync dead-letter queue's messages after a fix. It reads the same environment as the
functions (TABLE_NAME, QUEUE_URL, DLQ_URL, ...; with AWS credentials for the deployment), e.g.
`TABLE_NAME=... QUEUE_URL=... DLQ_URL=... KMS_KEY_ID=... SECRET_ARN=... python -m hubqbo.tools replay-dlq`.
"""

from __future__ import annotations

import argparse
import json
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hubqbo.tools")
    commands = parser.add_subparsers(dest="command", required=True)
    replay = commands.add_parser("replay-dlq", help="put the dead-letter queue's messages back on the sync queue")
    replay.add_argument("--portal", type=int, default=None, help="only this HubSpot portal's messages")
    replay.add_argument("--limit", type=int, default=1000)
    replay.add_argument("--dry-run", action="store_true", help="count what would be replayed, move nothing")
    args = parser.parse_args(argv)

    from hubqbo import wiring
    from hubqbo.services.pipeline_replay import replay_dead_letters

    result = replay_dead_letters(wiring.dead_letters(), portal_id=args.portal, limit=args.limit, dry_run=args.dry_run)
    print(json.dumps(result.model_dump()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
