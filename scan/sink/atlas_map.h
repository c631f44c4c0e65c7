/* scan/sink/atlas_map.h: an asset as Apache Atlas v2 entities (internal to scan/; pure: no I/O).
 *
 * For: the Atlas sink (sink_atlas.c), which cuts batches and posts them. This file decides what
 * one asset becomes inside the "entities" array of a bulk request:
 *
 *   file, directory, resource set, Delta table:
 *       fs_path [, tabular_schema, column...]          (guid references inside the request)
 *   database schema (MySQL: the database):
 *       [rdbms_instance,] rdbms_db                     (the instance once per request)
 *   database table or view:
 *       rdbms_table, rdbms_column...                   (columns name the table by guid)
 *
 * References between entities follow what Apache Atlas 2.x resolves: an entity of the same
 * request is named by its placeholder guid ({"guid":"-7","typeName":...}); an entity sent by an
 * earlier request is named by its qualifiedName ({"uniqueAttributes":{"qualifiedName":...},
 * "typeName":...}), which Atlas looks up in its store (REFERENCED_ENTITY_NOT_FOUND, 404, when it
 * is not there: a reference by qualifiedName never finds an entity of the same request). So a
 * table names its rdbms_db by guid when the schema went into the same request and by
 * qualifiedName otherwise (an earlier batch, part or attempt: the walk sends schemas before
 * tables), and any part can be sent again on its own and upserted. docs/scanning.md, "Atlas
 * sink", has the attributes.
 * Not for: batching, retries, the outbox (sink_atlas.c), parts (atlas_parts.c).
 */
#ifndef SHIR_SCAN_SINK_ATLAS_MAP_H
#define SHIR_SCAN_SINK_ATLAS_MAP_H

#include <stddef.h>

#include "scan/model.h"

/* An entity of the open request that later entities of the same request may name by guid. */
struct scan_atlas_local {
    char *qn;   /* owned */
    long guid;
};

/* What the mapping keeps between assets: the next placeholder guid (-1, -2, ...: never reused
 * within a sink, so no two requests' guids are confused in a log) and the container entities
 * (instances, databases) of the open request. */
struct scan_atlas_map {
    long next_guid;
    struct scan_atlas_local *local;
    size_t n_local, cap_local;
    struct shir_buf scratch; /* names being built */
};
void scan_atlas_map_init(struct scan_atlas_map *m);
/* A new request begins: forget the open request's entities (the guids keep counting). */
void scan_atlas_map_new_request(struct scan_atlas_map *m);
void scan_atlas_map_free(struct scan_atlas_map *m);

/* Append the entities of `a` (borrowed) to b, comma-separated, with no leading or trailing
 * comma: b is inside the "entities" array. On failure b and m are as they were before the call.
 * SHIR_E_NOMEM; SHIR_E_INVAL for a database asset whose qualified name has not the walk's shape
 * (db.c, "Qualified names"). */
int scan_atlas_entities(struct shir_buf *b, const struct scan_asset *a, struct scan_atlas_map *m);

/* The length in a declared column type ("character varying(40)", "VARCHAR(255)", "bit(8)",
 * "varbinary(16)"): the number in parentheses of a character, binary or bit type; -1 for any
 * other type or none (numeric(12,2) has a precision, not a length). Pure. */
long scan_atlas_declared_length(const char *declared);

#endif /* SHIR_SCAN_SINK_ATLAS_MAP_H */
