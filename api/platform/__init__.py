"""What every deployment serves besides the domains: health, who am I, the home page, and
the dev mailbox (dev profile only).
"""
