/*
 * Case e: the enter callback is chosen at run time under if/else.  Each
 * distinct set of callbacks gets its own ops struct (NAME, NAME_2, in order
 * of first appearance), a local "const struct irq_walker_ops *ops;"
 * replaces the walk's declaration, each store of the callback becomes
 * "ops = &NAME;", and the call passes ops.
 */
#include <linux/irqwalk.h>

struct dump_state {
	unsigned int lines;
	unsigned int masked;
};

static int dump_enter_verbose(struct irq_desc *desc, struct irq_walker *w)
{
	struct dump_state *ds = w->cookie;

	pr_info("%*sirq %u hwirq %lu count %u unhandled %u\n", w->depth * 2,
		"", irq_desc_get_irq(desc), desc->irq_data.hwirq,
		desc->irq_count, desc->irqs_unhandled);
	ds->lines++;
	return 0;
}

static int dump_enter_brief(struct irq_desc *desc, struct irq_walker *w)
{
	struct dump_state *ds = w->cookie;

	pr_info("irq %u\n", irq_desc_get_irq(desc));
	ds->lines++;
	return 0;
}

static int dump_leave(struct irq_desc *desc, struct irq_walker *w)
{
	struct dump_state *ds = w->cookie;

	if (irqd_irq_disabled(&desc->irq_data))
		ds->masked++;
	return 0;
}

void dump_irq_tree(struct irq_domain *domain, bool verbose)
{
	struct dump_state ds = { 0 };
	struct irq_walker w = {
		.leave = dump_leave,
		.domain = domain,
		.cookie = &ds,
	};

	if (verbose)
		w.enter = dump_enter_verbose;
	else
		w.enter = dump_enter_brief;

	irq_walk_tree(IRQ_WALK_ALL, &w);
	pr_info("%s: %u lines, %u masked\n", domain->name, ds.lines, ds.masked);
}
