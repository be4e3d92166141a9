#include <stdio.h>

int main(void)
{
    puts("cordon " CORDON_VERSION);
    return 0;
}
