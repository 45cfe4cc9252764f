"""Offline speech: capture, streaming Vosk recognition, recording and playback."""
