/*
 * Case i: the converted call no longer fits in 80 columns and wraps at an
 * argument boundary, the continuation line aligned under the first
 * argument (tabs, then spaces).  .domain is stored after the initializer.
 */
#include <linux/irqwalk.h>

struct spurious_report {
	unsigned int nr_spurious;
	unsigned int nr_errors;
	unsigned int threshold;
};

static int spurious_enter(struct irq_desc *desc, struct irq_walker *w)
{
	struct spurious_report *report = w->cookie;

	if (desc->irqs_unhandled > report->threshold)
		report->nr_spurious++;
	return 0;
}

static void spurious_error(struct irq_desc *desc, int err,
			   struct irq_walker *w)
{
	struct spurious_report *report = w->cookie;

	report->nr_errors++;
	pr_warn("irq %u: cannot check for spurious interrupts: %d\n",
		irq_desc_get_irq(desc), err);
}

static const struct irq_walker_ops report_spurious_interrupts_walker_ops = {
	.enter	= spurious_enter,
	.error	= spurious_error,
};

int report_spurious_interrupts(struct irq_domain *domain, bool children,
			       unsigned int threshold)
{
	struct spurious_report report = { .threshold = threshold };
	unsigned int flags = IRQ_WALK_ACTIVE;
	int ret;

	if (children)
		flags |= IRQ_WALK_CHILDREN;
	ret = irq_walk_tree(&report_spurious_interrupts_walker_ops, domain,
			    &report, flags);
	if (ret)
		return ret;
	return report.nr_spurious;
}
