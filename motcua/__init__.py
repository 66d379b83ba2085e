"""motcua's shared kernel: config, event contracts, outbox/inbox, messaging, errors.

Every service imports from here; nothing here imports a service.
"""
