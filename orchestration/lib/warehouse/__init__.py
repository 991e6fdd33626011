"""The dbt warehouse as Dagster sees it: the project (``project``), how dbt nodes become assets
(``translator``), what a night's build selects and leaves out (``selection``), the environment
dbt reads (``env``) and the build step itself (``build``). ``orchestration/defs/warehouse``
wires these into ``@dbt_assets``."""
