"""hotline pbx start | stop | status: the floor's local PBX (Kamailio) on this machine."""

from __future__ import annotations

import argparse

from common.paths import data_dir
from db import config
from db.pbx import PbxStore
from db.seats import SeatStore
from domain.seats import load_seats
from domain.sip import SipSettings, load_sip

from .common import database, default_seats_file, out, run


def sip_settings() -> SipSettings:
    """seats.toml's [sip], or the local defaults (the PBX on this machine)."""
    return load_sip(default_seats_file()) or SipSettings()


def plan(debug: int = 1):
    from telephony.pbx import PbxPlan

    sip = sip_settings()
    return PbxPlan(data_dir() / "pbx", sip.registrar_host, sip.registrar_port, debug)


def start_local_pbx(debug: int = 1) -> str:
    """Provision the seats and their SIP passwords, then run Kamailio; what to tell the user."""
    from telephony import pbx
    from telephony.credentials import ensure_passwords

    where = plan(debug)
    sip = sip_settings()
    seats = load_seats(default_seats_file())
    passwords = ensure_passwords([s.extension for s in seats])

    async def provision() -> int:
        """The seats (the ACD offers calls to them) and their credentials."""
        async with database() as conn:
            await SeatStore(conn).sync(seats)
            return await PbxStore(conn).set_subscribers(sip.domain, passwords)

    count = run(provision())
    pid = pbx.start(where, sip, pbx.kamailio_db_url(config.resolve_dsn("pbx")))
    return (f"交换机已启动 pid {pid}：sip:{where.listen}:{where.port}，域 {sip.domain}，{count} 个分机可注册；"
            f"拨 {sip.service_number} 进入排队，日志 {where.log_file}")


def cmd_pbx(args: argparse.Namespace) -> int:
    from telephony import pbx

    where = plan(args.debug)
    if args.action == "stop":
        out.print("交换机已停止" if pbx.stop(where) else "交换机没有在运行")
        return 0
    if args.action == "status":
        pid = pbx.running_pid(where)
        if pid is None:
            out.print("交换机没有在运行")
            return 3
        seats = pbx.registered(where)
        out.print(f"交换机运行中 pid {pid}，sip:{where.listen}:{where.port}，已注册分机 {len(seats)}：{' '.join(seats)}")
        return 0
    out.print(start_local_pbx(args.debug))
    return 0


def register(sub) -> None:
    p = sub.add_parser("pbx", help="the floor's local PBX (Kamailio): registrar for the seats, ACD for 12345")
    p.add_argument("action", choices=("start", "stop", "status"))
    p.add_argument("--debug", type=int, default=1, help="Kamailio's log level (1 errors … 3 debug)")
    p.set_defaults(func=cmd_pbx)
