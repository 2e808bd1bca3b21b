"""Development tools shared by tests/, scripts/ and benchmarks/: the fakes and the e2e harness.

Never shipped: HACS installs custom_components/esddns only.
"""
