"""yiwang_common: domain-free building blocks shared by every yiwang service.

Settings sub-models, async database access with one unit of work, the event envelope,
transactional outbox and idempotent consumers on NATS JetStream, RFC 9457 problems,
token verification, the working-day calendar, logging, and the event contracts.
Nothing here knows about items, cases or licences except the contracts package, which
holds the payload models that cross service boundaries.
"""
