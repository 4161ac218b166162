"""Barbershop booking engine: a thin Python service over the PostgreSQL engine in sql/."""
