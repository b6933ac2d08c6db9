"""Live exercise sessions: the wire protocol, counting browser landmark streams, storing each
repetition as it is counted (see docs/live-protocol.md)."""
