"""The sandbox's core app: API clients and tokens, workflows, the journey engine, the API and control views."""
