"""The sandbox delivery mode: aggregate SQL over entitled data, run where the data stays (可用不可见)."""
