/* Rebuilds report.html from a saved results.json and trace.json, as
 * `tokio-guard report` does: the viewer test renders a page both ways.
 * Usage: make_html OUT.html RESULTS.json [TRACE.json] */
#include <stdio.h>

#include "report_html.h"

int main(int argc, char **argv)
{
	char err[1024];

	if (argc < 3) {
		fprintf(stderr, "usage: make_html OUT.html RESULTS.json [TRACE.json]\n");
		return 2;
	}
	if (tg_report_html_write(argv[1], argv[2], argc > 3 ? argv[3] : NULL, err, sizeof(err))) {
		fprintf(stderr, "make_html: %s\n", err);
		return 1;
	}
	return 0;
}
