"""Subscribers: who receives the digest, in which state, and why.

Owns the database (engine, schema, versioned migrations), the store and its rules (what makes
an address pending, active, unsubscribed, bounced or complained), address validation and CSV
import and export. SQLAlchemy lives here and in delivery only. Imports only content.
"""
