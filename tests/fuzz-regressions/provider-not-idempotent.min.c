struct mm_walk{w(pud_entry)(p*n;}ƒ;
