/* Experiment, not part of the library: fast-FIR (Karatsuba / FFA) splitting of the direct
 * kernel, measured for docs/PERFORMANCE.md ("P = 63"). Levels 1-3 of the 2-parallel FFA in
 * correlation form, y[2q] = T0[q] + T1[q], y[2q+1] = (T2[q] - T1[q]) - T0[q+1], with the
 * AVX-512 direct kernel as the leaf, on 64 rows x 16384 outputs in chunks of 4096, one thread.
 * Result on the Zen 4 VM (2026-11-25): every level is SLOWER than plain direct (P = 64:
 * 1.78 ms direct, 2.08 / 2.35 / 2.57 ms at 1 / 2 / 3 levels): the polyphase split and merge
 * passes cost more than the multiply-adds they save, and an optimised version (AVX-512
 * permutes) was estimated at 0.85-0.9x of direct at best -- far from the 0.59x that 10x
 * against scipy at P = 63 would need.
 * Build: gcc -O3 -march=native bench/experiments/ffa_proto.c -o /tmp/ffa -lm && /tmp/ffa 63 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <math.h>
#include "../../src/cpu/direct_avx512.c"
typedef void (*leaf_fn)(const float*, const float*, size_t, float*, size_t);
static leaf_fn leaf = direct_f32_avx512;
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}

/* kernel tree: level l node has k (p taps), children k0,k1,ks */
typedef struct knode { int p; float *k; struct knode *c[3]; } knode;
static knode *ktree(const float *k, int p, int lev){
  knode *n = calloc(1,sizeof *n); n->p=p; n->k=aligned_alloc(64, ((p*4+63)/64)*64+64); memcpy(n->k,k,p*4);
  if(lev>0){ int h=p/2; float k0[h],k1[h],ks[h];
    for(int u=0;u<h;u++){k0[u]=k[2*u];k1[u]=k[2*u+1];ks[u]=k0[u]+k1[u];}
    n->c[0]=ktree(k0,h,lev-1);n->c[1]=ktree(k1,h,lev-1);n->c[2]=ktree(ks,h,lev-1);}
  return n;}
/* scratch arena */
static float *arena; static size_t arena_top;
static float *salloc(size_t n){ size_t a=(n+15)&~15UL; float*r=arena+arena_top; arena_top+=a; return r;}
static size_t need(int l,size_t n,size_t p){ if(l==0) return n+p-1; size_t G2=(size_t)1<<(l-1);
  size_t n0=need(l-1,n/2+G2,p/2), n1=need(l-1,n/2,p/2); size_t a=2*n0-1,b=2*n1+1; return a>b?a:b;}
static void ffa(int l,const float*X,const knode*kn,float*y,size_t n){
  if(l==0){leaf(X,kn->k,kn->p,y,n);return;}
  size_t p=kn->p,h=p/2,G2=(size_t)1<<(l-1),nh=n/2;
  size_t c0=nh+G2, c1=nh;
  size_t l0=need(l-1,c0,h), l1=need(l-1,c1,h);
  size_t mark=arena_top;
  float*X0=salloc(l0),*X1=salloc(l1),*S=salloc(l1),*T0=salloc(c0),*T1=salloc(c1),*T2=salloc(c1);
  for(size_t m=0;m<l0;m++)X0[m]=X[2*m];
  for(size_t m=0;m<l1;m++){X1[m]=X[2*m+1];S[m]=X[2*m+1]+X[2*m+2];}
  ffa(l-1,X0,kn->c[0],T0,c0); ffa(l-1,X1,kn->c[1],T1,c1); ffa(l-1,S,kn->c[2],T2,c1);
  for(size_t q=0;q<nh;q++){y[2*q]=T0[q]+T1[q]; y[2*q+1]=(T2[q]-T1[q])-T0[q+1];}
  arena_top=mark;
}
int main(int argc,char**argv){
  int p=atoi(argv[1]); size_t N=16384, rows=64, chunk=4096;
  arena=aligned_alloc(64,1<<24);
  float*A=aligned_alloc(64,(N*rows+8192)*4),*C=aligned_alloc(64,N*rows*4),*R=aligned_alloc(64,N*rows*4);
  for(size_t i=0;i<N*rows+8192;i++)A[i]=rand()/(float)RAND_MAX-.5f;
  float k[256]; for(int i=0;i<256;i++)k[i]=rand()/(float)RAND_MAX-.5f;
  for(int L=0;L<=3;L++){ int G=1<<L; int pp=(p+G-1)/G*G; float kp[256]; memcpy(kp,k,p*4); for(int i=p;i<pp;i++)kp[i]=0;
    knode*kt=ktree(kp,pp,L); double best=1e9;
    for(int rep=0;rep<15;rep++){ double t=now();
      for(size_t r=0;r<rows;r++) for(size_t o=0;o<N;o+=chunk) ffa(L,A+r*N+o,kt,C+r*N+o,chunk);
      t=now()-t; if(t<best)best=t;}
    if(L==0) memcpy(R,C,N*rows*4);
    double e=0,nr=0; for(size_t i=0;i<N*rows;i++){e+=(C[i]-R[i])*(double)(C[i]-R[i]);nr+=R[i]*(double)R[i];}
    printf("p=%d L=%d pad=%d: %.3f ms for %zu rows (x4 for 256 rows = %.2f ms 1 thread), rel err vs L0 %.2e\n",p,L,pp,best*1e3,rows,best*4e3,sqrt(e/nr));
  }
}
