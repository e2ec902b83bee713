# Fits the degree-3 polynomial for 2^-g, 0 <= g < 1/8, used by exp in src/fixed/activations.ts.
# Minimax of the relative error (linear program, scaled around the least-squares fit), with P(0) = 1 and the
# error at g = 1/8 held >= 5e-9 so that every table step of 2^-(j/8) meets the next from above (a monotone
# exp). Prints the coefficients at 2^64, the table at 2^31 and the largest relative error of table x poly.
# Run with Debian's python3 (numpy, scipy): /usr/bin/python3 scripts/fit-exp2.py 0.5
import numpy as np
from scipy.optimize import linprog
W=1/8; deg=3; S=1e8
g=np.linspace(1e-9,W,4001)
target=(2.0**-g-1)/g; wt=g/2.0**-g
A=np.vstack([g**i for i in range(deg)]).T*wt[:,None]; b=target*wt
c0,*_=np.linalg.lstsq(A,b,rcond=None)
b0=(b-A@c0)*S   # residual to fit with d: A d ≈ b0
n=deg
import sys
m=float(sys.argv[1]) if len(sys.argv)>1 else 0.3
cobj=np.r_[np.zeros(n),1]
Aub=np.vstack([np.c_[A,-np.ones(len(g))], np.c_[-A,-np.ones(len(g))], np.r_[-A[-1],0][None,:]])
bub=np.r_[b0,-b0,-b0[-1]-m]
r=linprog(cobj,A_ub=Aub,b_ub=bub,bounds=[(None,None)]*n+[(0,None)],method='highs')
c=c0+r.x[:n]/S; print(c, r.x[n]/S)
ONE=1<<64
C1=round(-c[0]*ONE); C2=round(c[1]*ONE); C3=round(-c[2]*ONE)
T=[round(2**(31-j/8)) for j in range(8)]+[1<<30]
def P(g): return ONE - ((g*(C1 - ((g*(C2 - ((g*C3)>>64)))>>64)))>>64)
gmax=(1<<61)-1
print('boundary', min((T[j]*P(gmax) - T[j+1]*ONE)/(T[j+1]*ONE) for j in range(8)))
print(C1,C2,C3); print(T)
mx=0
for j in range(8):
  for gg in np.linspace(0,gmax,20001):
    gi=int(gg); e=T[j]*P(gi)/2**95; tr=2**(-(j/8+gi/ONE)); mx=max(mx,abs(e/tr-1))
print('max rel', mx)
