"""What goes wrong with telephony, said so a user can act on it (in Chinese); importable
without PJSIP, so the command line can report these as user errors."""


class TelephonyError(RuntimeError):
    """SIP could not start, register or place a call; the message says why."""


class PbxError(TelephonyError):
    """The local PBX cannot be run here; the message says why and what to do."""


class CredentialError(TelephonyError):
    """No SIP password, or one kept where others can read it."""
