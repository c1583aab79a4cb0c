/* Just enough JSON output for --json: strings escaped per RFC 8259. */
#ifndef SURGEON_JSON_H
#define SURGEON_JSON_H

#include <stdio.h>

/* Prints s as a JSON string, quotes included; NULL prints null. */
void json_str(FILE *f, const char *s);

#endif
