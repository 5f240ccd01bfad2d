"""SQL storage adapter: tables, migrations, repositories and the unit of work."""
