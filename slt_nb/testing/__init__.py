"""Synthetic trees and fixtures for tests, benchmarks and demo builders; the library never imports it."""
