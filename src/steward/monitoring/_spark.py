"""The PySpark engine (``pip install steward[spark]``): the same aggregates as a Spark job.

Two passes over the data: one ``agg`` for counts, moments and ranges of every column, and one
``groupBy`` over an exploded (column, bin-or-category) pair for every histogram and category
count. Bins come from ``pyspark.ml.feature.Bucketizer`` with splits ``[-inf, e₁ … e_k, +inf]``,
which is numpy's ``searchsorted(side="right")`` rule; categories are cast to strings.
Accepts a ``pyspark.sql.DataFrame`` or anything the other engines read (a pandas frame, an
Arrow table, a path/glob of Parquet or CSV files), which it loads into the active session.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from steward import extras
from steward.domain.errors import InvalidInput
from steward.monitoring._duckdb import expand
from steward.monitoring.aggregate import BatchAggregate, ColumnAggregate

if TYPE_CHECKING:
    from steward.monitoring.profile import ReferenceProfile

NUMERIC_SPARK = ("tinyint", "smallint", "int", "bigint", "float", "double", "decimal",
                 "boolean")


def session() -> Any:
    """The active Spark session, or a local one (``local[*]``, UI off)."""
    SparkSession = extras.require("spark", "pyspark.sql").SparkSession  # noqa: N806
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    return (SparkSession.builder.master("local[*]").appName("steward-monitoring")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "8")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .getOrCreate())


def to_spark(source: Any) -> Any:
    if type(source).__module__.startswith("pyspark"):
        return source
    spark = session()
    if isinstance(source, Path):
        source = str(source)
    if isinstance(source, str):
        files = expand(source) if any(ch in source for ch in "*?[") else [source]
        if not files or (not all(Path(f).exists() for f in files) and "://" not in source):
            raise InvalidInput(f"no file matches {source!r}; check the path or glob")
        if source.lower().endswith((".parquet", ".pq")):
            return spark.read.parquet(*files)
        if source.lower().endswith((".csv", ".csv.gz")):
            return spark.read.csv(files, header=True, inferSchema=True)
        raise InvalidInput(f"cannot tell the format of {source!r}: use .parquet or .csv")
    if type(source).__module__.startswith("pyarrow"):
        source = source.to_pandas()
    if isinstance(source, pd.DataFrame):
        return spark.createDataFrame(source)
    raise InvalidInput(f"the Spark engine cannot read a {type(source).__name__}; pass a Spark "
                       "DataFrame, a pandas frame, an Arrow table or a Parquet/CSV path")


def aggregate(source: Any, profile: ReferenceProfile) -> BatchAggregate:
    from pyspark.ml.feature import Bucketizer
    from pyspark.sql import functions as F  # noqa: N812

    df = to_spark(source)
    types = dict(df.dtypes)
    missing_cols = [c for c in profile.columns if c not in types]
    if missing_cols:
        raise InvalidInput(f"the data has no column {', '.join(map(repr, missing_cols))}; "
                           f"it has {', '.join(list(types)[:30])} — fix the monitor's column "
                           "list or the data")
    aggs: list[Any] = [F.count(F.lit(1)).alias("__rows")]
    pairs: list[Any] = []
    in_cols, out_cols, splits = [], [], []
    keys: dict[str, tuple[str, str]] = {}
    for ci, (name, cp) in enumerate(profile.columns.items()):
        col = F.col(f"`{name}`")
        if cp.kind == "numeric":
            if not types[name].startswith(NUMERIC_SPARK):
                raise InvalidInput(f"column {name!r} should be numeric but has type "
                                   f"{types[name]}; cast it in the data or monitor it as a "
                                   "categorical column")
            x = col.cast("double")
            fin = x.isNotNull() & ~F.isnan(x) & (F.abs(x) != float("inf"))
            aggs += [
                F.count(F.when(x.isNull() | F.isnan(x), 1)).alias(f"m{ci}"),
                F.count(F.when(x.isNotNull() & (F.abs(x) == float("inf")), 1)).alias(f"i{ci}"),
                F.count(F.when(fin, 1)).alias(f"n{ci}"),
                F.sum(F.when(fin, x)).alias(f"s{ci}"),
                F.sum(F.when(fin, x * x)).alias(f"q{ci}"),
                F.min(F.when(fin, x)).alias(f"lo{ci}"),
                F.max(F.when(fin, x)).alias(f"hi{ci}"),
                F.count(F.when(fin & (x < F.lit(cp.min)), 1)).alias(f"b{ci}"),
                F.count(F.when(fin & (x > F.lit(cp.max)), 1)).alias(f"a{ci}"),
            ]
            clean = f"__x{ci}"
            df = df.withColumn(clean, F.when(fin, x).otherwise(F.lit(float("nan"))))
            for bi, (key, edges) in enumerate(cp.edges.items()):
                out = f"__b{ci}_{bi}"
                in_cols.append(clean)
                out_cols.append(out)
                splits.append([float("-inf"), *edges, float("inf")])
                tag = f"{ci}:{bi}"
                keys[tag] = (name, key)
                # NaN lands in the extra bucket len(edges)+1 ("keep"), dropped below
                pairs.append(F.struct(F.lit(tag).alias("k"),
                                      F.col(out).cast("bigint").cast("string").alias("v")))
        else:
            missing = col.isNull()
            if types[name] in ("double", "float"):
                missing = missing | F.isnan(col)
            aggs.append(F.count(F.when(missing, 1)).alias(f"m{ci}"))
            tag = f"{ci}:c"
            keys[tag] = (name, "")
            value = F.when(~missing, col.cast("string"))
            if types[name] == "boolean":
                value = F.when(~missing, F.when(col, "true").otherwise("false"))
            pairs.append(F.struct(F.lit(tag).alias("k"), value.alias("v")))
    if in_cols:
        df = Bucketizer(inputCols=in_cols, outputCols=out_cols, splitsArray=splits,
                        handleInvalid="keep").transform(df)
    head = df.agg(*aggs).collect()[0].asDict()
    counted: dict[str, dict[str, int]] = {}
    if pairs:
        exploded = df.select(F.explode(F.array(*pairs)).alias("p")).select("p.k", "p.v")
        for r in exploded.where(F.col("v").isNotNull()).groupBy("k", "v").count().collect():
            counted.setdefault(r["k"], {})[r["v"]] = int(r["count"])
    rows = int(head["__rows"])
    cols: dict[str, ColumnAggregate] = {}
    for ci, (name, cp) in enumerate(profile.columns.items()):
        if cp.kind == "numeric":
            hist = {}
            for bi, (key, edges) in enumerate(cp.edges.items()):
                got = counted.get(f"{ci}:{bi}", {})
                hist[key] = [got.get(str(j), 0) for j in range(len(edges) + 1)]
            lo, hi = head[f"lo{ci}"], head[f"hi{ci}"]
            cols[name] = ColumnAggregate(
                name, "numeric", rows=rows, missing=int(head[f"m{ci}"]),
                nonfinite=int(head[f"i{ci}"]), n=int(head[f"n{ci}"]),
                sum=float(head[f"s{ci}"] or 0.0), sumsq=float(head[f"q{ci}"] or 0.0),
                min=None if lo is None else float(lo), max=None if hi is None else float(hi),
                below=int(head[f"b{ci}"]), above=int(head[f"a{ci}"]), hist=hist)
        else:
            cats = counted.get(f"{ci}:c", {})
            agg = ColumnAggregate(name, "categorical", rows=rows, missing=int(head[f"m{ci}"]),
                                  n=sum(cats.values()), categories=dict(cats))
            agg.cap_categories()
            cols[name] = agg
    return BatchAggregate(rows=rows, columns=cols, engine="spark", profile_id=profile.id)
