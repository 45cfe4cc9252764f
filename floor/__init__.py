"""The floor's work without UI: a seat's call session, what a seat loads, where calls come
from, reference data, and a simulated floor. Screens (console/) render it and send commands."""
